#!/usr/bin/env python3
"""Build a KPL-aggregated Kinesis record for the golden tests (stdlib only).

    make_kpl.py OUT INPUT...

Each INPUT becomes one user record. Its bytes are gzip-compressed first
(level 9, mtime 0, so the output is reproducible) unless they already start
with the gzip magic 1f 8b. User record i gets the partition key "pk-<i>".

The output follows the KPL aggregation format (awslabs/amazon-kinesis-producer
aggregation-format.md):

    F3 89 9A C2 | protobuf AggregatedRecord | MD5 of the protobuf bytes

    message AggregatedRecord {
      repeated string partition_key_table     = 1;
      repeated string explicit_hash_key_table = 2;
      repeated Record records                 = 3;
    }
    message Record {
      required uint64 partition_key_index     = 1;
      optional uint64 explicit_hash_key_index = 2;
      required bytes  data                    = 3;
      repeated Tag    tags                    = 4;
    }

The protobuf is written by hand here (no explicit hash keys, no tags).
The golden case kpl_two_gzip_envelopes commits this script's output, so the
tests never need Python:

    python3 test/golden/tools/make_kpl.py \\
        test/golden/cases/kpl_two_gzip_envelopes/input.kpl \\
        test/golden/cases/kpl_two_gzip_envelopes/env1.json \\
        test/golden/cases/kpl_two_gzip_envelopes/env2.json
"""
import gzip
import hashlib
import sys

MAGIC = b"\xf3\x89\x9a\xc2"
WIRE_VARINT = 0
WIRE_LEN = 2


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint((field << 3) | wire)


def len_field(field, payload):
    return key(field, WIRE_LEN) + varint(len(payload)) + payload


def uint_field(field, value):
    return key(field, WIRE_VARINT) + varint(value)


def aggregate(datas):
    pb = bytearray()
    for i in range(len(datas)):
        pb += len_field(1, ("pk-%d" % (i + 1)).encode())
    for i, data in enumerate(datas):
        record = uint_field(1, i) + len_field(3, data)
        pb += len_field(3, record)
    pb = bytes(pb)
    return MAGIC + pb + hashlib.md5(pb).digest()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    datas = []
    for path in argv[2:]:
        with open(path, "rb") as f:
            data = f.read()
        if not data.startswith(b"\x1f\x8b"):
            data = gzip.compress(data, compresslevel=9, mtime=0)
        datas.append(data)
    with open(argv[1], "wb") as f:
        f.write(aggregate(datas))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
