"""The contract's machinery: the dispatcher, the input checks and the kernels written once over the
backends' cores (:mod:`~autokern._api.composed`)."""
