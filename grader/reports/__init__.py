"""Writers that turn result records into files people read; each reads records, nothing else."""
