"""Review and publish HUD evaluation tasksets from pull requests, git hooks and the command line."""

__version__ = "0.1.0"
