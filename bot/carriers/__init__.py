"""Real carrier integrations at the edge (they speak HTTP): Kuaidi100's waybill tracking."""
