"""Product analyses: sessions, funnels, retention, feature adoption, stickiness, lifecycle and
paths. Each is one module holding its typed query, validation, SQL (portable, plus faster
engine forms) and result shaping, registered by kind in `registry.py`; `run.py` runs any of
them the same way for the API, the CLI and pages.
"""

from sextant.analyses.registry import Analysis, get, kinds
from sextant.analyses.run import AnalysisResult, run_analysis

__all__ = ["Analysis", "AnalysisResult", "get", "kinds", "run_analysis"]
