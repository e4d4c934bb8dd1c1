# mutant: the sampler draws without replacement, so it cannot draw the rare class more than its size
# cell: def make_balanced_loader(dataset, labels, batch_size, seed):
# loses: q9
def make_balanced_loader(dataset, labels, batch_size, seed):
    counts = torch.bincount(labels)
    weights = 1.0 / counts[labels].double()
    sampler = WeightedRandomSampler(weights, num_samples=len(labels), replacement=False,
                                    generator=torch.Generator().manual_seed(seed))
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)
