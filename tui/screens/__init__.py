"""The console's screens, one module each; `SCREENS` maps `:NAME` to each top-level one."""
