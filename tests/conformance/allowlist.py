"""The differences between the local cluster and kube-apiserver that stay, each with its reason.

An entry names a sequence (fnmatch pattern), a step (None: any) and the path of the compared
value (fnmatch pattern: ``status``, ``body.message``, ``stdout``...). An entry that no longer
matches a difference fails the suite, so the list stays true.

Not compared at all (the corpus does not ask, since the real answer depends on timing): what a
controller does after a request returns. The garbage collector removes an object deleted with
propagationPolicy=Foreground or Orphan once it has handled its dependents (the local cluster
answers the same marked object, then removes it at once, owning nothing to collect); a
deleted namespace stays Terminating (the test control plane runs no namespace controller; the
tests' reset finalizes it; the local cluster removes it with its content at once, see
namespace-terminating below); the
serviceaccount controller makes a namespace's ``default`` ServiceAccount a moment after the
namespace, and again a moment after it is deleted (the local cluster makes it with the
namespace, and never again).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from tests.conformance.harness import Difference


@dataclass(frozen=True)
class Allowed:
    sequence: str
    step: int | None
    path: str
    reason: str

    def matches(self, sequence: str, difference: Difference) -> bool:
        return (
            fnmatchcase(sequence, self.sequence)
            and (self.step is None or self.step == difference.step)
            and fnmatchcase(difference.path, self.path)
        )


ALLOWED: list[Allowed] = [
    Allowed(
        "watch",
        0,
        "*",
        "Watch is not served: the local cluster answers 405 MethodNotAllowed, as the API server "
        "does for a kind without watch; kube-apiserver streams events. Neither dispatchctl nor "
        "the kubectl commands it documents watch.",
    ),
    Allowed(
        "discovery-[!v]*",
        None,
        "*.verbs",
        "Discovery does not list the watch verb, which is not served (above); kubectl then "
        "knows not to try.",
    ),
    Allowed(
        "discovery-aggregated",
        0,
        "*.subresources",
        "Subresources (namespaces/finalize and /status, serviceaccounts/token) are not served "
        "and not listed: no controller finalizes namespaces here, and tokens are not issued.",
    ),
    Allowed(
        "namespace-terminating",
        3,
        "*",
        "No namespace controller: a deleted namespace goes at once with its content, so "
        "creating in it is 404 namespace not found. kube-apiserver keeps it Terminating until "
        "its controller has emptied it (at least 5 s) and answers 403 NamespaceTerminating "
        "meanwhile; after that it is the same 404.",
    ),
    Allowed(
        "list-continue-is-a-snapshot",
        4,
        "body.items",
        "No history of old revisions: a continued list reads the current objects, so one made "
        "between two pages appears on the next. etcd serves the continue token's revision, a "
        "consistent snapshot (and 410 Gone once compacted).",
    ),
    Allowed(
        "apply-errors",
        10,
        "body.message",
        "A malformed apply configuration: the 400 says in our words that only JSON is read "
        "(see apply-yaml), where kube-apiserver quotes its YAML parser.",
    ),
    Allowed(
        "apply-yaml",
        None,
        "*",
        "An apply configuration in YAML that is not JSON is refused (400, 'the only YAML the "
        "local cluster reads' is JSON), so nothing is made; kube-apiserver reads it with "
        "sigs.k8s.io/yaml. Kept: kubectl, client-go and Flux send JSON (which is YAML); the "
        "local cluster imports only the standard library, which reads no YAML; and a reader of "
        "our own would have to copy go-yaml v2's YAML 1.1 (there `name: y` is the boolean true, "
        "and the apply a 500) and its error messages to answer the same.",
    ),
]


def split(sequence: str, found: list[Difference]) -> tuple[list[Difference], list[Allowed]]:
    """The differences no entry explains, and the entries of this sequence that explained none."""
    mine = [a for a in ALLOWED if fnmatchcase(sequence, a.sequence)]
    unexplained = [d for d in found if not any(a.matches(sequence, d) for a in mine)]
    stale = [a for a in mine if not any(a.matches(sequence, d) for d in found)]
    return unexplained, stale
