#!/bin/bash
cd /work/main
if [ "${1:-}" = user ]; then
tests/sensors/hidsensor --kind pressure --rate 1000 --count 3000 > /tmp/o0 2>/tmp/e0 &
p=$!
while ! [ -s /tmp/o0 ]; do sleep 0.1; done
d=$(head -1 /tmp/o0)
tests/sensors/iioread --rate-only -n 3000 -t 11 "$d"
kill $p; wait $p
fi
tests/sensors/hidsensor --kind pressure --rate 1000 --count 3000 -v > /tmp/o 2>/tmp/e &
p=$!
while ! [ -s /tmp/o ]; do sleep 0.1; done
d=$(head -1 /tmp/o)
modprobe attestio
echo "$d" > /sys/kernel/attestio/attach
for i in $(seq 12); do sleep 0.5; echo "$(cat /sys/kernel/attestio/streams/0/produced) $(cat /sys/kernel/attestio/streams/0/samples) $(cat /sys/kernel/attestio/streams/0/drops)"; done
cat /tmp/e | tail -20
dmesg | grep -v virtio | tail -12
echo "$d" > /sys/kernel/attestio/detach
kill $p; wait $p
rmmod attestio
