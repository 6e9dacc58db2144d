"""One camera's media: its recorder child and at most one sub-stream decoder feeding every consumer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rtcc.video.pipeline.consumers import ConsumerContext, ConsumerFeed, FrameNeeds
from rtcc.video.pipeline.decoder import SubStreamDecoder
from rtcc.video.recording.recorder import CameraRecorder

if TYPE_CHECKING:
    from rtcc.video.pipeline.supervisor import CameraPipelineSupervisor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecoderPlan:
    """What a camera's decoder reads and for whom: its URL, the one decode, and each consumer kind's needs."""

    url: str
    decode: FrameNeeds
    consumers: tuple[tuple[str, FrameNeeds], ...]
    masks_key: tuple[str, ...]
    masks: list = field(default_factory=list, compare=False, hash=False)


@dataclass(frozen=True)
class CameraPlan:
    """What one camera should run: a recording (URL, mask file) and a decoder, either or both."""

    camera_id: int
    recording: tuple[str, Path | None] | None = None
    decoder: DecoderPlan | None = None


class CameraPipeline:
    """Runs what a camera's plan says; a changed part is restarted alone (a new mask restarts both)."""

    def __init__(self, camera_id: int, supervisor: CameraPipelineSupervisor):
        self.camera_id = camera_id
        self.supervisor = supervisor
        self.recording: tuple[str, Path | None] | None = None
        self.recorder: CameraRecorder | None = None
        self.recorder_task: asyncio.Task | None = None
        self.decoder_plan: DecoderPlan | None = None
        self.decoder: SubStreamDecoder | None = None
        self.feeds: list[ConsumerFeed] = []
        self._decoder_tasks: list[asyncio.Task] = []

    @property
    def idle(self) -> bool:
        return self.recorder is None and self.decoder is None

    async def stop_changed(self, plan: CameraPlan | None) -> None:
        """Stop the parts the plan no longer wants as they run (or that ended on their own)."""
        wanted = plan or CameraPlan(self.camera_id)
        await asyncio.gather(
            *([self.stop_recorder()] if self.recorder and (wanted.recording != self.recording or self.recorder_task.done()) else []),
            *([self.stop_decoder()] if self.decoder and (wanted.decoder != self.decoder_plan
                                                         or self._decoder_tasks[0].done()) else []),
            return_exceptions=True)

    def start_missing(self, plan: CameraPlan) -> None:
        """Start the parts of the plan not running."""
        if plan.recording and self.recorder is None:
            self.recording = plan.recording
            self.recorder = self.supervisor.new_recorder(self.camera_id, *plan.recording)
            self.recorder_task = asyncio.create_task(self.recorder.run(), name=f"record-cam{self.camera_id}")
        if plan.decoder and self.decoder is None:
            self._start_decoder(plan.decoder)

    def _start_decoder(self, plan: DecoderPlan) -> None:
        settings = self.supervisor.runtime.settings
        self.feeds = []
        for kind_name, needs in plan.consumers:
            kind = self.supervisor.kinds[kind_name]
            consumer = kind.build(ConsumerContext(runtime=self.supervisor.runtime, camera_id=self.camera_id,
                                                  stream=plan.decode.stream, needs=needs,
                                                  services=self.supervisor.services, events=self.supervisor))
            self.feeds.append(ConsumerFeed(kind_name, consumer, needs, decoded_fps=plan.decode.fps))
        self.decoder_plan = plan
        self.decoder = SubStreamDecoder(plan.url, needs=plan.decode, ffmpeg=settings.ffmpeg_path,
                                        io_timeout_s=settings.stream_io_timeout_seconds, privacy_masks=plan.masks,
                                        feeds=self.feeds, source_check=self.supervisor.source_refusal)
        self._decoder_tasks = [asyncio.create_task(self.decoder.run(), name=f"decode-cam{self.camera_id}"),
                               *(asyncio.create_task(feed.run(), name=f"{feed.kind}-cam{self.camera_id}")
                                 for feed in self.feeds)]

    async def stop_recorder(self) -> None:
        """Stop the recorder (it closes and indexes its open segment); live viewers move off its feed after."""
        recorder, task = self.recorder, self.recorder_task
        self.recorder = self.recorder_task = self.recording = None
        await recorder.stop()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=20)
        self.supervisor.recorder_stopped(self.camera_id, recorder)

    async def stop_decoder(self) -> None:
        """Stop the decoder; each consumer finishes (a plate reader stores its open passes)."""
        decoder, tasks = self.decoder, self._decoder_tasks
        self.decoder, self.decoder_plan, self._decoder_tasks, self.feeds = None, None, [], []
        await decoder.stop()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=20)
        self.supervisor.decoder_stopped(self.camera_id)

    async def stop(self) -> None:
        """Stop both; the decoder first, so a plate read waiting for its recording gives up while it still records."""
        if self.decoder is not None:
            await self.stop_decoder()
        if self.recorder is not None:
            await self.stop_recorder()

    def ffmpeg_processes(self) -> int:
        """ffmpeg children running now: at most two (recorder and decoder)."""
        children = [self.recorder._process if self.recorder else None, self.decoder.process if self.decoder else None]
        return sum(1 for process in children if process is not None and process.returncode is None)

    def stats(self) -> dict:
        """The camera's recorder status and its decoder's counters, with drops per consumer."""
        return {"camera_id": self.camera_id,
                "recorder": ({"status": self.recorder.status.state, "segments_indexed": self.recorder.segments_indexed}
                             if self.recorder else None),
                "decoder": self.decoder.stats() if self.decoder else None}
