"""AT-AT: EMG artifact removal with an autoencoder-targeted adversarial transformer."""
