"""librdkafka's producer (the confluent-kafka package), for the e2e suite: writes the lines of
stdin as records of one partition, batched and compressed with the codec given, and prints
each record's offset.

    python rdkafka_producer.py <brokers> <topic> <partition> <codec>
"""
import sys

from confluent_kafka import Producer


def main() -> None:
    brokers, topic, partition, codec = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    producer = Producer(
        {
            "bootstrap.servers": brokers,
            "compression.type": codec,
            "linger.ms": 500,
            "batch.size": 16 * 1024 * 1024,
            "message.max.bytes": 16 * 1024 * 1024,
            "acks": "all",
        }
    )
    offsets: list[int] = []

    def delivered(err, message) -> None:
        if err is not None:
            raise SystemExit(f"delivery failed: {err}")
        offsets.append(message.offset())

    for line in sys.stdin.read().splitlines():
        producer.produce(topic, value=line.encode("utf-8"), partition=partition, on_delivery=delivered)
    if producer.flush(30) != 0:
        raise SystemExit("records still queued after 30 s")
    print("\n".join(str(offset) for offset in sorted(offsets)))


if __name__ == "__main__":
    main()
