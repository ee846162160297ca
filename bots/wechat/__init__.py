"""WeChat Official Account (公众号): receiving messages and events, rendering replies, and sending actively
(customer-service messages inside the user's window, template messages outside it)."""
