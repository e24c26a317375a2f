"""The progress bars of a run: a total bar plus one per env with its running success rate."""

from __future__ import annotations

from typing import Any


class Progress:
    """A total bar plus one bar per env showing episodes done and the running success rate."""

    def __init__(
        self, env_ids: list[str], planned: dict[str, int], done_rows: list[dict], enabled: bool
    ):
        from tqdm.auto import tqdm

        self.enabled = enabled
        self.bars: dict[str, Any] = {}
        self.k: dict[str, int] = {e: 0 for e in env_ids}
        self.n: dict[str, int] = {e: 0 for e in env_ids}
        for r in done_rows:
            if r["env"] in self.n:
                self.n[r["env"]] += 1
                self.k[r["env"]] += bool(r.get("success_once"))
        total = sum(planned.values())
        self.total = tqdm(
            total=total,
            initial=sum(self.n.values()),
            desc="all episodes",
            position=0,
            disable=not enabled,
            dynamic_ncols=True,
            leave=True,
        )
        width = max((len(e) for e in env_ids), default=10)
        for j, e in enumerate(env_ids, start=1):
            self.bars[e] = tqdm(
                total=planned.get(e, 0),
                initial=self.n[e],
                desc=e.ljust(width),
                position=j,
                disable=not enabled,
                dynamic_ncols=True,
                leave=True,
            )
            self._post(e)

    def _post(self, env: str) -> None:
        n = self.n[env]
        rate = f"{self.k[env] / n:.2f}" if n else "-"
        self.bars[env].set_postfix_str(f"success {rate}", refresh=False)

    def update(self, row: dict) -> None:
        e = row["env"]
        self.n[e] += 1
        self.k[e] += bool(row.get("success_once"))
        if self.enabled:
            self._post(e)
            self.bars[e].update(1)
            self.total.update(1)

    def close(self) -> None:
        for b in self.bars.values():
            b.close()
        self.total.close()
