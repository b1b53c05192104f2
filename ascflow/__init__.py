"""ascflow: publish an iOS app with a customer's App Store Connect key, then destroy the key, provably."""

__version__ = "0.1.0"
