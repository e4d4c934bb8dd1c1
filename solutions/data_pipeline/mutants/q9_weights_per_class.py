# mutant: one weight per class instead of one per sample
# cell: def make_balanced_loader(dataset, labels, batch_size, seed):
# loses: q9
def make_balanced_loader(dataset, labels, batch_size, seed):
    counts = torch.bincount(labels)
    weights = 1.0 / counts.double()
    sampler = WeightedRandomSampler(weights, num_samples=len(labels), replacement=True,
                                    generator=torch.Generator().manual_seed(seed))
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)
