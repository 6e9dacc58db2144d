# Sourced by the other scripts: is something listening, and is it the server the tests need?

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  echo "nothing listening on 127.0.0.1:$1 after 30 s" >&2; return 1
}
wait_port_closed() {
  for _ in $(seq 1 40); do port_open "$1" || return 0; sleep 0.25; done
  return 1
}
# Whether the NATS server on this port announces JetStream in its INFO line (Debian's packaged
# service does not: it answers on 4222 but every stream operation fails).
nats_has_jetstream() {
  local info=""
  info=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; IFS= read -r line <&3; echo \"\$line\"" 2>/dev/null) || true
  grep -q '"jetstream":true' <<<"$info"
}
