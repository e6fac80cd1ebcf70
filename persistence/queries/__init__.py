"""Read functions for loaders and resolvers. Patient-owned reads take `PatientGrant`s."""
