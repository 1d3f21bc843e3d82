"""Moving packets between the ESP SAs and the world: a TUN device, or the lab's sink."""
