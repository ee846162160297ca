"""The web playground of ``stvs demo``: a third channel adapter, served only in demo mode."""
