from __future__ import annotations

from streams.app import create_app
from streams.contracts.connections import Endpoints
from streams.contracts.settings import Settings


def test_producer_batches_hold_a_micro_batch_but_one_record_on_the_embedded_broker() -> None:
    kafka = create_app(Settings(), Endpoints("k:9092", "http://e:9200", embedded=False))
    assert kafka.conf.producer_max_batch_size == Settings().kafka_batch_bytes == 256 * 1024
    # tansu's end offsets are exact only for one-record batches (streams/app.py)
    embedded = create_app(Settings(), Endpoints("127.0.0.1:1", "http://127.0.0.1:2", embedded=True))
    assert embedded.conf.producer_max_batch_size == 64
