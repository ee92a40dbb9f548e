# Source: Ray Tune's HyperOptSearch (ray-project/ray, python/ray/tune/search/hyperopt/
#   hyperopt_search.py, Apache-2.0), which drives hyperopt as an ask/tell optimizer without fmin:
#   Domain(lambda spc: spc, space), trials.new_trial_ids, algo(new_ids, domain, trials, seed),
#   insert_trial_docs, spec_from_misc, Ctrl, domain.memo_from_config, pyll.rec_eval, and results
#   written back into the trial dicts (state JOB_STATE_DONE, result) followed by refresh().
# Changes: the Ray machinery removed; a loop of 15 asks and tells on a quadratic; seeded.
import hyperopt as hpo
import numpy as np
from hyperopt import Domain, Trials, hp, tpe

space = {"x": hp.uniform("x", -5, 5), "act": hp.choice("act", ["relu", "tanh"])}
domain = Domain(lambda spc: spc, space)
trials = Trials()
rng = np.random.default_rng(0)


def ask():
    new_ids = trials.new_trial_ids(1)
    trials.refresh()
    new_trials = tpe.suggest(new_ids, domain, trials, rng.integers(2**31 - 1))
    trials.insert_trial_docs(new_trials)
    trials.refresh()
    new_trial = new_trials[0]
    config = hpo.base.spec_from_misc(new_trial["misc"])
    ctrl = hpo.base.Ctrl(trials, current_trial=new_trial)
    memo = domain.memo_from_config(config)
    hpo.utils.use_obj_for_literal_in_memo(domain.expr, ctrl, hpo.base.Ctrl, memo)
    return new_trial["tid"], hpo.pyll.rec_eval(domain.expr, memo=memo)


def tell(tid, loss):
    trial = next(t for t in trials._dynamic_trials if t["tid"] == tid)
    trial["refresh_time"] = hpo.utils.coarse_utcnow()
    trial["state"] = hpo.base.JOB_STATE_DONE
    trial["result"] = {"loss": loss, "status": "ok"}
    trials.refresh()


for _ in range(15):
    tid, cfg = ask()
    tell(tid, (cfg["x"] - 1) ** 2 + (0.0 if cfg["act"] == "relu" else 0.5))
print(trials.argmin, len(trials.trials))
assert len(trials.trials) == 15
