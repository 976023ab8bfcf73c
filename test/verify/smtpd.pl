#!/usr/bin/perl
#
# smtpd.pl - a scripted next hop for test/verify: answers callouts only
#
#	smtpd.pl PORT LOG USER...
#
# Listens on 127.0.0.1:PORT and answers each session in turn: 220, 250
# to EHLO and HELO; 250 to MAIL FROM:<> (a callout), 550 to any other
# sender (no mail is taken); to RCPT TO:<local@domain> 250 when local@domain
# is one of USER (compared as octets: this next hop's local parts are
# case-sensitive), 450 4.2.0 when the local part starts with "temp", else
# 550 5.1.1; 221 to QUIT; 554 to DATA.  Appends "RCPT local@domain CODE"
# to LOG for each RCPT.  A session silent for 10 s is closed; the server
# runs until killed.

use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

my ($port, $log, @users) = @ARGV;
die "usage: smtpd.pl PORT LOG USER...\n" unless defined $log;
my %user = map { $_ => 1 } @users;
my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
    Listen => 16, ReuseAddr => 1) or die "listen $port: $!\n";
$SIG{PIPE} = 'IGNORE';
while (my $c = $s->accept) {
	$c->autoflush(1);
	my $sel = IO::Select->new($c);
	print $c "220 scripted.test ESMTP\r\n";
	while ($sel->can_read(10)) {
		my $line = <$c>;
		last unless defined $line;
		$line =~ s/\r?\n\z//;
		if ($line =~ /^(EHLO|HELO)\b/i) {
			print $c "250 ok\r\n";
		} elsif ($line =~ /^MAIL FROM:<>/i) {
			print $c "250 ok\r\n";
		} elsif ($line =~ /^MAIL\b/i) {
			print $c "550 5.7.1 callouts only\r\n";
		} elsif ($line =~ /^RCPT TO:<([^>]*)>/i) {
			my $rcpt = $1;
			my $code = $user{$rcpt} ? "250 2.1.5 ok" :
			    $rcpt =~ /^temp/ ? "450 4.2.0 try later" :
			    "550 5.1.1 no such user";
			print $c "$code\r\n";
			open(my $l, '>>', $log) or die "$log: $!\n";
			print $l "RCPT $rcpt " . substr($code, 0, 3) . "\n";
			close $l;
		} elsif ($line =~ /^QUIT/i) {
			print $c "221 bye\r\n";
			last;
		} else {
			print $c "554 5.5.1 not here\r\n";
		}
	}
	close $c;
}
