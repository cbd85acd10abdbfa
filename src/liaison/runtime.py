"""A running node's runtime: built once by the app factory (or a CLI command) and passed
down, instead of module globals.

It holds the settings (in the node config), the database, the node's identity with its
signing key, the record types it exchanges with peers (registered here, explicitly, not
when a module is imported), its live-event feed and its delivery worker's wake-up.

A node served by several processes (`serve --workers N`, PostgreSQL only) shares its feed
and wake-ups between them through LISTEN/NOTIFY (`liaison.federation.crossing`): each
process runs a `Listener` beside its delivery worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from liaison.config import NodeConfig, Settings
from liaison.federation.capabilities import ADVERTISEMENT, tell_changes
from liaison.federation.checkpoints import CHECKPOINT
from liaison.federation.context import LocalNode
from liaison.federation.crossing import Listener, shared_feeds
from liaison.federation.delivery import DeliveryWorker
from liaison.federation.notify import DeliveryWakeup, Feeds, LiveFeed, attach_feeds
from liaison.federation.records import RecordTypes
from liaison.federation.resync import Recovery
from liaison.services.cooperation import Provider
from liaison.services.hotline import queries as hotline_queries
from liaison.services.hotline import records as hotline_records
from liaison.services.incidents import queries as incident_queries
from liaison.services.incidents import records as incident_records
from liaison.services.notifications import queries as notification_queries
from liaison.services.notifications import records as notification_records
from liaison.services.verification import queries as verification_queries
from liaison.services.verification import records as verification_records
from liaison.store.database import Database


def node_record_types() -> RecordTypes:
    """Every shared record type a node understands. A new record type is added here."""
    return RecordTypes(
        (
            *hotline_records.RECORD_TYPES,
            *incident_records.RECORD_TYPES,
            *notification_records.RECORD_TYPES,
            *verification_records.RECORD_TYPES,
            CHECKPOINT,
            ADVERTISEMENT,
        )
    )


def cooperation_providers() -> tuple[Provider, ...]:
    """Every record type's figures for the cooperation overview, in the page's order. A
    record type with figures adds its provider here, beside `node_record_types`."""
    return (
        Provider(
            key="hotline",
            label="Hotline messages",
            steps=("acknowledge",),
            record_types=("hotline.message", "hotline.ack"),
            items=hotline_queries.cooperation_series,
        ),
        Provider(
            key="incidents",
            label="Incidents shared",
            steps=("follow_up",),
            record_types=("incident.report", "incident.follow_up"),
            items=incident_queries.cooperation_series,
        ),
        Provider(
            key="notifications",
            label="Pre-export notifications",
            steps=("answer",),
            record_types=("pen.notification", "pen.response"),
            items=notification_queries.cooperation_series,
        ),
        Provider(
            key="verification",
            label="Verification cases",
            steps=("decide", "return"),
            record_types=("verification.case", "verification.event"),
            items=verification_queries.cooperation_series,
        ),
    )


@dataclass
class Runtime:
    config: NodeConfig
    database: Database
    node: LocalNode
    record_types: RecordTypes
    feeds: Feeds
    secret: bytes  # the node's secret (HMAC of login-form tokens)
    listener: Listener | None = None  # set when the node runs on several processes
    processes: int = 1  # server processes serving the node (`serve --workers N`)
    worker: DeliveryWorker | None = field(default=None, init=False)
    recovery: Recovery | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        return self.config.settings

    @property
    def unverified_concurrency(self) -> int:
        """This process's share of `federation_unverified_concurrency`: the cap is the
        node's, divided among its processes (at least one each), so N processes never
        read more unverified requests at once than the node was given. (A count shared by
        the processes would cost every federation request a round trip to the database.)"""
        return max(1, self.settings.federation_unverified_concurrency // self.processes)

    def start(self) -> None:
        """Tell the peers this node's record types if they changed, and start the delivery
        worker; it first delivers what was queued while stopped."""
        if self.listener is not None:
            self.listener.start()
        tell_changes(self.database, self.record_types)
        self.worker = DeliveryWorker(self.database, self.node, wakeup=self.feeds.delivery)
        self.worker.start()
        self.worker.wake()
        # After a restore: this node's own records the backup lacked, from the peers.
        self.recovery = Recovery(self.database, self.node, self.record_types)
        self.recovery.start()

    def stop(self) -> None:
        if self.recovery is not None:
            self.recovery.stop()
            self.recovery = None
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.listener is not None:
            self.listener.stop()


def build_runtime(
    config: NodeConfig,
    database: Database | None = None,
    *,
    shared: bool = False,
    processes: int = 1,
) -> Runtime:
    """shared: this process is one of `processes` serving the node (PostgreSQL only): live
    events and delivery wake-ups go through the database to all of them."""
    database = database or Database(config.database_url)
    feeds = shared_feeds() if shared else Feeds(LiveFeed(), DeliveryWakeup())
    attach_feeds(database.sessions, feeds)
    return Runtime(
        config,
        database,
        LocalNode.from_config(config),
        node_record_types(),
        feeds,
        config.secret_path.read_bytes().strip(),
        Listener(database.url, feeds) if shared else None,
        processes,
    )
