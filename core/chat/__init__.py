"""The conversation, written once for every channel: channel-neutral inputs in, replies out."""
