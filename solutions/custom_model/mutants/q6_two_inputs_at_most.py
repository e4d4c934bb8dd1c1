# mutant: the pre-hook rebuilds the inputs as (factor * args[0], args[1]) when there are several, so a module with three inputs loses its third
# cell: def add_input_scale(module, factor):
# loses: q6
def add_input_scale(module, factor):
    def hook(module, args):
        if len(args) == 1:
            return (args[0] * factor,)
        return (args[0] * factor, args[1])

    return module.register_forward_pre_hook(hook)


def add_output_clamp(module, low, high):
    def hook(module, args, output):
        return output.clamp(low, high)

    return module.register_forward_hook(hook)
