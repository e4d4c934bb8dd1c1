# mutant: the weights are the class counts instead of 1 / count, so the common class is drawn even more often
# cell: def make_balanced_loader(dataset, labels, batch_size, seed):
# loses: q9
def make_balanced_loader(dataset, labels, batch_size, seed):
    counts = torch.bincount(labels)
    weights = counts[labels].double()
    sampler = WeightedRandomSampler(weights, num_samples=len(labels), replacement=True,
                                    generator=torch.Generator().manual_seed(seed))
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)
