# mutant: the weights assume two classes, 0 and 1 (every other class gets class 0's weight)
# cell: def make_balanced_loader(dataset, labels, batch_size, seed):
# loses: q9
def make_balanced_loader(dataset, labels, batch_size, seed):
    n1 = int((labels == 1).sum())
    n0 = int((labels == 0).sum())
    weights = torch.where(labels == 1, torch.tensor(1.0 / max(n1, 1)), torch.tensor(1.0 / max(n0, 1))).double()
    sampler = WeightedRandomSampler(weights, num_samples=len(labels), replacement=True,
                                    generator=torch.Generator().manual_seed(seed))
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)
