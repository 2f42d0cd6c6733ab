"""The process around the kernels: memory budgets and threads (:mod:`~autokern._runtime.memory`)
and the routes' cost model (:mod:`~autokern._runtime.routes`, public as ``autokern.cost``)."""
