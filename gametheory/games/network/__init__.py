"""Nonatomic routing games on networks (Wardrop 1952) and the TNTP file format of the
transportation test networks (Bar-Gera et al., TransportationNetworks)."""
