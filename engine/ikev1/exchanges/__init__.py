"""One module per IKEv1 exchange: main, aggressive, quick, informational, transaction."""
