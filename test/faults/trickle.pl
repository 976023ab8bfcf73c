#!/usr/bin/perl
#
# trickle.pl - slow socketmap clients, and one client that is not slow
#
#	trickle.pl PORT COUNT SECONDS SRC...
#
# First opens one "active" connection to 127.0.0.1:PORT that asks
# "relay example.com" every 200 ms (also while the others connect) and
# expects "OK" each time, on the same connection.  Then opens COUNT connections spread over the source
# addresses SRC (127.0.0.x), each sending the start of a request ("100:")
# and then one octet every 2 s, as a slow attacker would; prints "ready"
# once all are open.  It goes on until every slow connection has been
# closed by the server, or SECONDS have passed, and prints
#	slow_closed=N slow_open=M active_answers=A active_wrong=W active_closed=C
# (active_closed 1: the server closed the active client's connection).

use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

my ($port, $count, $secs, @src) = @ARGV;
die "usage: trickle.pl PORT COUNT SECONDS SRC...\n" unless @src;
$SIG{PIPE} = 'IGNORE';
$| = 1;

my $active = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
    PeerPort => $port, Proto => 'tcp') or die "active: connect: $!\n";
my ($answers, $wrong, $active_closed) = (0, 0, 0);

sub ask {
	my $q = 'relay example.com';
	my $buf = '';
	if (!defined syswrite($active, length($q) . ":$q,")) {
		$active_closed = 1;
		return;
	}
	while ($buf !~ /^(\d+):/ || length($buf) < length($1) + 2 + $1) {
		my $n = sysread($active, $buf, 4096, length $buf);
		if (!$n) {
			$active_closed = 1;
			return;
		}
	}
	$answers++;
	$wrong++ unless $buf =~ /^\d+:OK /;
}

ask();
my $next_ask = time + 0.2;
my @slow;
my $sel = IO::Select->new;
for my $i (0 .. $count - 1) {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, LocalAddr => $src[$i % @src],
	    Proto => 'tcp') or die "slow $i: connect: $!\n";
	syswrite($s, '100:');
	push @slow, $s;
	$sel->add($s);
	# every 200 ms, and after every 50 connections: always newer than
	# the first slow ones
	if ((time >= $next_ask || $i % 50 == 0) && !$active_closed) {
		ask();
		$next_ask = time + 0.2;
	}
}
print "ready\n";

my $end = time + $secs;
my $tick = time + 2;
while ($sel->count > 0 && time < $end) {
	if (time >= $next_ask && !$active_closed) {
		ask();
		$next_ask = time + 0.2;
	}
	if (time >= $tick) {
		for my $s ($sel->handles) {
			next if defined syswrite($s, 'a');
			$sel->remove($s);
			close $s;
		}
		$tick = time + 2;
	}
	for my $s ($sel->can_read(0.1)) {
		my $b;
		my $n = sysread($s, $b, 4096);
		next if $n;
		$sel->remove($s);
		close $s;
	}
}
printf "slow_closed=%d slow_open=%d active_answers=%d active_wrong=%d " .
    "active_closed=%d\n", $count - $sel->count, $sel->count, $answers,
    $wrong, $active_closed;
exit 0;
