"""Back-office request handlers, one module per area; ``bot.backoffice.routes`` lists them all."""
