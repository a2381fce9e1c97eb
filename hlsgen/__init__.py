"""hlsgen: a Vision Transformer -> FPGA accelerator generator. The Python API (hlsgen.api):
explore, generate, sweep, evaluate, Project; imported on first use (the CLI does not need it)."""

__version__ = "0.1.0"
_API = ("explore", "generate", "sweep", "evaluate", "Project", "ExploreResult", "CsimReport")


def __getattr__(name):
    if name in _API:
        from hlsgen import api
        return getattr(api, name)
    raise AttributeError(f"module 'hlsgen' has no attribute {name!r}")
