"""IKEv1 (RFC 2408/2409) with XAUTH and mode-config, sans-IO like `engine.ike`."""
