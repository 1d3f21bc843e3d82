"""One module per family of IOS commands, each building part of the model."""
