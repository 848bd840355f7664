"""Payment providers that live at the edge because they speak HTTP to a payment platform (Alipay), the
web chat's choice of provider, and the QR images its shoppers scan."""
