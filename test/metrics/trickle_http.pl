#!/usr/bin/perl
#
# trickle_http.pl - slow HTTP clients for test/metrics
#
#	trickle_http.pl PORT COUNT SECONDS
#
# Opens COUNT connections to 127.0.0.1:PORT; each sends the start of a
# request and then one more octet of an endless header every second, so
# that it is never idle for long and never done.  Goes on until the server
# has closed every connection, or SECONDS have passed, and prints
#	closed=N open=M
# (N: the connections the server closed).

use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

my ($port, $count, $secs) = @ARGV;
die "usage: trickle_http.pl PORT COUNT SECONDS\n" unless defined $secs;
$SIG{PIPE} = 'IGNORE';
$| = 1;
my @conns;
for (1 .. $count) {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp') or die "connect: $!\n";
	syswrite($s, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ");
	push @conns, $s;
}
my %closed;
my $end = time + $secs;
while (time < $end && keys(%closed) < @conns) {
	for my $i (0 .. $#conns) {
		next if $closed{$i};
		my $s = $conns[$i];
		my $sel = IO::Select->new($s);
		if ($sel->can_read(0)) {
			my $buf;
			my $n = sysread($s, $buf, 4096);
			if (!$n) {
				$closed{$i} = 1;
				next;
			}
		}
		$closed{$i} = 1 unless defined syswrite($s, 'a');
	}
	sleep 1;
}
printf "closed=%d open=%d\n", scalar(keys %closed),
    @conns - scalar(keys %closed);
