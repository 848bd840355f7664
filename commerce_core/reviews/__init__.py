"""Shoppers' product reviews (R5.3-1): a 1-5 rating and a comment from someone who received the item."""
