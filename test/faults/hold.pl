#!/usr/bin/perl
#
# hold.pl - bad milter clients for test/faults (slow)
#
#	hold.pl SOCKET SILENT SLOW
#
# Opens SILENT connections to the unix socket SOCKET that never send a
# byte, and SLOW connections that send a milter option negotiation
# (SMFIC_OPTNEG, version 6) one byte every 100 ms.  Prints "holding N"
# once every connection is open, then keeps them open until killed.

use strict;
use warnings;
use IO::Socket::UNIX;

my ($path, $silent, $slow) = @ARGV;
die "usage: hold.pl SOCKET SILENT SLOW\n" unless defined $slow;
$| = 1;
my (@quiet, @slow);
for (1 .. $silent) {
	my $s = IO::Socket::UNIX->new(Peer => $path, Type => SOCK_STREAM) or
	    die "connect $path: $!\n";
	push @quiet, $s;
}
for (1 .. $slow) {
	my $s = IO::Socket::UNIX->new(Peer => $path, Type => SOCK_STREAM) or
	    die "connect $path: $!\n";
	$s->autoflush(1);
	push @slow, $s;
}
print "holding " . ($silent + $slow) . "\n";
$SIG{PIPE} = 'IGNORE';
# length 13: command 'O', version 6, all actions, all protocol steps
my $pkt = pack('N a1 N N N', 13, 'O', 6, 0x1ff, 0x1fffff);
for (my $i = 0; ; $i++) {
	for my $s (@slow) {
		syswrite($s, substr($pkt, $i, 1)) if $i < length($pkt);
	}
	select(undef, undef, undef, 0.1);
}
