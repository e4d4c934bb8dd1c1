# mutant: the sampler gets no seeded generator, so the batches change from run to run
# cell: def make_balanced_loader(dataset, labels, batch_size, seed):
# loses: q9
def make_balanced_loader(dataset, labels, batch_size, seed):
    counts = torch.bincount(labels)
    weights = 1.0 / counts[labels].double()
    sampler = WeightedRandomSampler(weights, num_samples=len(labels), replacement=True)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)
