"""SROS, the Shared Revenue Operating System: one set of sales and marketing definitions."""
