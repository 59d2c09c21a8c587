"""Uppföljning Finsam: the national follow-up that replaced SUS for Finsam (no personnummer)."""
