# mutant: the tensor hook computes grad * factor but returns None, so the gradient is not changed
# cell: def record_grads(module, log):
# loses: q7
def record_grads(module, log):
    def hook(module, grad_input, grad_output):
        g_in, g_out = grad_input[0], grad_output[0]
        log.append((None if g_in is None else g_in.detach().clone(),
                    None if g_out is None else g_out.detach().clone()))

    return module.register_full_backward_hook(hook)


def scale_grad(param, factor):
    def hook(grad):
        grad * factor

    return param.register_hook(hook)
