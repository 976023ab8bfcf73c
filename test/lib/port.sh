# port.sh - a free TCP port for a test's listener
#
# Sourced by the suites (test/e2e/lib.sh, test/scenarios, test/faults,
# test/bench).
#
# mr_free_port [HOST] prints a TCP port that HOST (default 127.0.0.1;
# ::1 for IPv6) can bind and listen on now, or fails after 200 tries.
# The port is picked at random from 10000 up to just below the kernel's
# ephemeral range (net.ipv4.ip_local_port_range), never from that range:
# a port there (what a bind to port 0 returns) can be taken meanwhile as
# the local port of any outgoing connection on the machine, and the
# listener's bind then fails with "Address already in use" (seen once in
# the scenarios' inet socket step while other suites ran beside it).
# The bind is tried without SO_REUSEADDR, so a port in any state of any
# socket (listening, connected, TIME_WAIT) is passed over.
mr_free_port() {
	local host=${1:-127.0.0.1} low

	low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range \
	    2>/dev/null)
	perl -MIO::Socket::IP -e '
		my ($host, $low) = @ARGV;
		$low = 32768 if !$low || $low < 12000;
		for (1 .. 200) {
			my $port = 10000 + int(rand($low - 10000));
			my $s = IO::Socket::IP->new(LocalHost => $host,
			    LocalPort => $port, Proto => "tcp", Listen => 1,
			    ReuseAddr => 0) or next;
			print "$port\n";
			exit 0;
		}
		exit 1;' "$host" "$low"
}
