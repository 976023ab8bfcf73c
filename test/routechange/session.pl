#!/usr/bin/perl
#
# session.pl - one SMTP session across a "milter-relay reload"
#
#	session.pl MODE SECONDS PORT MILTER_RELAY CONF LOG ADDR [BIND]
#
# One SMTP session from BIND (127.0.0.1 unless given) to 127.0.0.1:PORT
# (Postfix's smtpd keeps the addresses it resolved while the process
# runs): RCPT ADDR,
# "MILTER_RELAY reload -c CONF" (waits for its "reload: ... OK" line in
# LOG), RCPT ADDR again: MODE "log" every second for SECONDS, then a
# message to ADDR (DATA); MODE "enforce" (or "once") once.  Prints
# each reply: "before: ", "S s: ", "message: ", "data: ".  Exit 0 when
# the dialogue ran.

use strict;
use warnings;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my ($mode, $secs, $port, $bin, $conf, $log, $addr, $bind) = @ARGV;
die "usage: session.pl log|enforce|once SECONDS PORT MILTER_RELAY CONF " .
    "LOG ADDR [BIND]\n" unless defined $addr;
$bind //= '127.0.0.1';
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
    LocalAddr => $bind, Timeout => 60) or die "connect: $!\n";
$s->autoflush(1);

sub reply {
	my $all = '';
	while (my $l = <$s>) {
		$all .= $l;
		if ($l =~ /^\d{3} /) {
			$all =~ s/\r?\n$//;
			return $all;
		}
	}
	die "connection closed\n";
}

sub cmd {
	print $s "$_[0]\r\n";
	return reply();
}

sub rcpt {
	cmd('MAIL FROM:<s@e2e.test>');
	my $r = cmd("RCPT TO:<$_[0]>");
	cmd('RSET');
	return $r;
}

sub reloaded {
	open(my $f, '<', $log) or die "$log: $!\n";
	my $n = grep { /reload: .*: OK/ } <$f>;
	close($f);
	return $n;
}

reply();
cmd('EHLO e2e.test');
print "before: ", rcpt($addr), "\n";
my $n = reloaded();
system($bin, 'reload', '-c', $conf) == 0 or die "reload failed\n";
my $t0 = time;
for (1 .. 100) {
	last if reloaded() > $n;
	sleep 0.1;
}
die "no reload line\n" unless reloaded() > $n;
do {
	printf "%.1f s: %s\n", time - $t0, rcpt($addr);
	sleep 1 if $mode eq 'log';
} while ($mode eq 'log' && time - $t0 < $secs);
if ($mode eq 'log') {
	cmd('MAIL FROM:<s@e2e.test>');
	print "message: ", cmd("RCPT TO:<$addr>"), "\n";
	cmd('DATA');
	print "data: ", cmd("Subject: moved\r\n\r\nafter the reload\r\n."),
	    "\n";
}
cmd('QUIT');
exit 0;
