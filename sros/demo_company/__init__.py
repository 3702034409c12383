"""Seeded generator of a realistic B2B demo company with known ground truth.

    from sros.demo_company import DemoConfig, DirtyConfig, generate
    manifest = generate(DemoConfig(n_leads=10_000, seed=42), out_dir)

writes one CSV export per raw-table contract under `out_dir/<landing>/export_0001.csv`,
`ground_truth.json` (the realised rates later marts must recover) and `_manifest.json`.
"""

from sros.demo_company.config import DemoConfig, DirtyConfig
from sros.demo_company.generate import generate, landed_company

__all__ = ["DemoConfig", "DirtyConfig", "generate", "landed_company"]
