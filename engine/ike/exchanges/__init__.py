"""One module per exchange feature, each behind `engine.ike.exchanges.base.Exchange`."""
