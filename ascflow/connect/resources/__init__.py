"""One resource group per App Store Connect domain, each a thin typed layer over the session."""
