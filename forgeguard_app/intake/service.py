"""The intake's edge: the store, the model, memory and the contracts tied together for the commands.

Every method loads the intake, does one step, saves it, and returns what to
show: the progress comment's Markdown and notes. Nothing here talks to
GitHub; the commands module posts the progress comment, commits the contracts
and manages the pull request. The model can only ever move the questionnaire
along; approving, rejecting and merging happen only through people's commands,
which call `approved`/`rejected` here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from forgeguard_app.db import Database
from forgeguard_app.intake import choices
from forgeguard_app.intake.contracts_prose import write_prose
from forgeguard_app.intake.contracts_render import render_contracts
from forgeguard_app.intake.contracts_revise import Revision, revise_contracts
from forgeguard_app.intake.contracts_summary import summarize_contracts
from forgeguard_app.intake.contracts_validate import ContractsInvalid, validate_contracts
from forgeguard_app.intake.conversation import Questionnaire, TurnOutcome
from forgeguard_app.intake.progress_text import render_progress
from forgeguard_app.intake.state import Answers, IntakeState, answers_now, back, edit
from forgeguard_app.intake.store import IntakeRecord, IntakeStore, StaleIntake, Status
from forgeguard_app.llm.accounting import CallContext, intake_cost
from forgeguard_app.llm.client import LLM, LLMUnavailable

log = logging.getLogger(__name__)

UNAVAILABLE_NOTE = (
    "The model is unavailable right now (rate limited or overloaded). Your answers are saved; "
    "the intake waits and resumes on its own."
)


class IntakeNotFound(LookupError):
    """No intake for this id, issue or pull request."""


@dataclass
class StepResult:
    """What one step left: the saved intake, notes for people, and the progress comment to show."""

    record: IntakeRecord
    progress: str
    notes: list[str] = field(default_factory=list)
    unavailable: bool = False
    """The model could not be reached: the intake is `waiting_model` and the answer still queued."""
    processed: int = 0


@dataclass(frozen=True)
class ContractsDraft:
    """Validated contract files ready to commit, and the pull request body."""

    files: dict[str, str]
    summary: str
    answers: Answers


class IntakeService:
    """One per job: `IntakeService(db, llm, model)`; `llm` may be None only for model-free steps."""

    def __init__(self, db: Database, llm: LLM | None, model: str) -> None:
        self.db = db
        self.store = IntakeStore(db.pool)
        """For single statements; `_open` and `_save` run theirs in one transaction."""
        self.llm = llm
        self.model = model

    async def _open(self, **fields: Any) -> tuple[IntakeRecord, bool]:
        async with self.db.pool.acquire() as conn, conn.transaction():
            return await IntakeStore(conn).open(**fields)

    async def _save(
        self,
        record: IntakeRecord,
        state: IntakeState,
        *,
        status: Status | None = None,
        answer_id: int | None = None,
    ) -> IntakeRecord:
        async with self.db.pool.acquire() as conn, conn.transaction():
            return await IntakeStore(conn).save(record, state, status=status, answer_id=answer_id)

    def _questionnaire(self) -> Questionnaire:
        if self.llm is None:
            raise LLMUnavailable("no model is configured (ANTHROPIC_API_KEY is not set)")
        return Questionnaire(self.llm, self.model)

    @staticmethod
    def _context(record: IntakeRecord) -> CallContext:
        return CallContext(installation_id=record.installation_id, intake_id=record.id)

    async def _load(self, intake_id: int) -> IntakeRecord:
        record = await self.store.get(intake_id)
        if record is None:
            raise IntakeNotFound(f"no intake {intake_id}")
        return record

    async def find(self, repository_id: int, issue_number: int) -> IntakeRecord | None:
        """The intake of an issue, if there is one."""
        return await self.store.find(repository_id, issue_number)

    async def progress(self, record: IntakeRecord, notes: list[str] | None = None) -> str:
        """The progress comment of this intake, with its model cost so far."""
        return render_progress(record.state, await intake_cost(self.db, record.id), notes)

    async def _result(
        self, record: IntakeRecord, notes: list[str], *, unavailable: bool = False, processed: int = 0
    ) -> StepResult:
        return StepResult(record, await self.progress(record, notes), notes, unavailable, processed)

    # starting and answering ------------------------------------------------------------------------

    async def start(
        self,
        *,
        installation_id: int,
        repository_id: int,
        repository_full_name: str,
        issue_number: int,
        title: str,
        description: str = "",
        restart: bool = False,
    ) -> StepResult:
        """`/forge intake [restart]`: open the issue's intake and ask the first questions.

        The issue's body is the first answer. An intake already under way is
        left as it is (its progress is returned) unless `restart`.
        """
        record, fresh = await self._open(
            installation_id=installation_id,
            repository_id=repository_id,
            repository_full_name=repository_full_name,
            issue_number=issue_number,
            title=title,
            restart=restart,
        )
        if not fresh:
            return await self._result(record, ["The intake of this issue is already under way."])
        suggestions = await choices.recall(self.db, installation_id, exclude_intake=record.id)
        try:
            outcome = await self._questionnaire().start(
                record.state, description, suggestions=suggestions, context=self._context(record)
            )
        except LLMUnavailable:
            record = await self.store.set_status(record.id, "waiting_model")
            return await self._result(record, [UNAVAILABLE_NOTE], unavailable=True)
        record = await self._save(record, outcome.state, status="active")
        return await self._finish_turn(record, outcome, [])

    async def submit_answer(
        self, intake_id: int, *, comment_id: int, author: str, body: str, commented_at: datetime | None = None
    ) -> bool:
        """Queue a comment as an answer (once per comment id); then call `process_answers`."""
        return await self.store.enqueue_answer(
            intake_id, comment_id=comment_id, author=author, body=body, commented_at=commented_at
        )

    async def edit_answer(self, intake_id: int, comment_id: int, body: str) -> bool:
        """An edited comment replaces its answer while that is still queued; False once it was read."""
        return await self.store.edit_answer(intake_id, comment_id, body)

    async def drop_answer(self, intake_id: int, comment_id: int) -> bool:
        """A deleted comment withdraws its answer while that is still queued; False once it was read."""
        return await self.store.drop_answer(intake_id, comment_id)

    async def pending_count(self, intake_id: int) -> int:
        """How many answers wait in the queue."""
        return await self.store.pending_count(intake_id)

    async def process_answers(self, intake_id: int) -> StepResult:
        """Answer every queued comment, oldest first, saving after each one.

        Run it from a job keyed by the intake so that one runs at a time; a
        concurrent save is detected (`StaleIntake`) and the turn is redone on
        the fresh state. When the model is unavailable the intake becomes
        `waiting_model` with the answer still queued: run this again later
        (the job's retry) and it resumes where it stopped.
        """
        record = await self._load(intake_id)
        notes: list[str] = []
        processed = 0
        while True:
            answer = await self.store.next_answer(intake_id)
            if answer is None or record.status not in ("active", "waiting_model"):
                break
            suggestions = await choices.recall(self.db, record.installation_id, exclude_intake=record.id)
            try:
                outcome = await self._questionnaire().answer(
                    record.state, answer.body, suggestions=suggestions, context=self._context(record)
                )
            except LLMUnavailable:
                record = await self.store.set_status(record.id, "waiting_model")
                return await self._result(
                    record, [*notes, UNAVAILABLE_NOTE], unavailable=True, processed=processed
                )
            try:
                record = await self._save(record, outcome.state, status="active", answer_id=answer.id)
            except StaleIntake:
                record = await self._load(intake_id)
                continue
            processed += 1
            notes = list(outcome.notes)
            if outcome.finished:
                await choices.remember(
                    self.db,
                    installation_id=record.installation_id,
                    intake_id=record.id,
                    sections=outcome.state.sections,
                )
        return await self._result(record, notes, processed=processed)

    async def _finish_turn(self, record: IntakeRecord, outcome: TurnOutcome, notes: list[str]) -> StepResult:
        if outcome.finished:
            await choices.remember(
                self.db,
                installation_id=record.installation_id,
                intake_id=record.id,
                sections=outcome.state.sections,
            )
        return await self._result(record, [*notes, *outcome.notes])

    # commands without new answers --------------------------------------------------------------------

    async def status(self, intake_id: int) -> StepResult:
        """`/forge status`: the progress as it stands."""
        return await self._result(await self._load(intake_id), [])

    async def back(self, intake_id: int) -> StepResult:
        """`/forge back`: reopen the previous section and ask about it."""
        return await self._reopen(intake_id, back)

    async def edit(self, intake_id: int, section: str) -> StepResult:
        """`/forge edit <section>`: reopen a section (raises UnknownSection with a suggestion)."""
        return await self._reopen(intake_id, lambda state: edit(state, section))

    async def _reopen(self, intake_id: int, change: Callable[[IntakeState], IntakeState]) -> StepResult:
        record = await self._load(intake_id)
        state = change(record.state)
        record = await self._save(record, state, status="active")
        try:
            outcome = await self._questionnaire().resume(
                record.state,
                suggestions=await choices.recall(self.db, record.installation_id, exclude_intake=record.id),
                context=self._context(record),
            )
        except LLMUnavailable:
            return await self._result(record, [UNAVAILABLE_NOTE], unavailable=True)
        record = await self._save(record, outcome.state)
        return await self._finish_turn(record, outcome, [])

    # contracts -------------------------------------------------------------------------------------

    async def contracts(self, intake_id: int) -> ContractsDraft:
        """`/forge contracts` (or the end of the questionnaire): validated files from the answers so far.

        Missing sections get their marked defaults. Raises ContractsInvalid
        (with reasons) when the files do not validate, LLMUnavailable when the
        prose cannot be written now.
        """
        record = await self._load(intake_id)
        answers = answers_now(record.state)
        if self.llm is None:
            raise LLMUnavailable("no model is configured (ANTHROPIC_API_KEY is not set)")
        prose = await write_prose(self.llm, self.model, answers, context=self._context(record))
        files = render_contracts(answers, prose)
        problems = validate_contracts(files)
        if problems:
            raise ContractsInvalid(problems)
        return ContractsDraft(files, summarize_contracts(files), answers)

    async def revise(self, intake_id: int, files_on_branch: dict[str, str], instructions: str) -> Revision:
        """`/forge revise <instructions>`, starting from the files on the branch (human edits kept)."""
        record = await self._load(intake_id)
        if self.llm is None:
            raise LLMUnavailable("no model is configured (ANTHROPIC_API_KEY is not set)")
        return await revise_contracts(
            self.llm, self.model, files_on_branch, instructions, context=self._context(record)
        )

    async def contracts_opened(self, intake_id: int, *, pull_number: int, branch: str) -> IntakeRecord:
        return await self.store.set_status(
            intake_id, "contracts_open", contracts_pull_number=pull_number, contracts_branch=branch
        )

    async def approved(self, intake_id: int) -> IntakeRecord:
        """Called by the `approve` command only (a person with write access): remember the choices."""
        record = await self.store.set_status(intake_id, "approved")
        await choices.remember(
            self.db,
            installation_id=record.installation_id,
            intake_id=record.id,
            sections=answers_now(record.state).sections,
        )
        return record

    async def rejected(self, intake_id: int, reason: str) -> IntakeRecord:
        """Called by the `reject` command only: the reason is kept."""
        return await self.store.set_status(
            intake_id, "rejected", reject_reason=reason.strip() or "no reason given"
        )

    async def cost(self, intake_id: int) -> Decimal:
        return await intake_cost(self.db, intake_id)
