"""finsam: the follow-up pipeline of a Swedish samordningsförbund."""

__version__ = "0.1.0"
