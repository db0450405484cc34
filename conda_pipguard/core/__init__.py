"""The pure core: reads environments and decides; imports no conda, writes only locks."""
