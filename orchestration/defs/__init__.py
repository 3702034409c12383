"""Dagster definitions by concern: landing, ingestion, dbt, jobs and schedules."""
