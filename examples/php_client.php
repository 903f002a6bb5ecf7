<?php
/**
 * Calls a WSMailUpImport endpoint with PHP's SoapClient, over SOAP 1.1 and SOAP 1.2, the way
 * MailUp's PHP integrations do: the service's own WSDL, the Authentication SOAP header in
 * http://ws.mailupnet.it/, GetNlLists to find the list's GUID, then CreateGroup. Every
 * operation answers one string, a <mailupMessage> document, read here with SimpleXML.
 *
 * Debian: apt-get install php-cli php-soap php-xml (SimpleXML), then for example
 *
 *   php examples/php_client.php http://127.0.0.1:8080/Services/WSMailUpImport.asmx \
 *       a1001 'the-ws-password' 1 --group='Customers from PHP'
 *
 * Arguments: the endpoint (with or without ?WSDL), the WS user, its password and the idList.
 * --soap=1.1, --soap=1.2 or --soap=both (the default); --group=NAME the group to create.
 * Exits with status 1 when a call answers a negative ReturnCode or a SOAP Fault.
 */

function usage(): never
{
    fwrite(STDERR, "usage: php php_client.php ENDPOINT USER PASSWORD IDLIST [--soap=1.1|1.2|both] [--group=NAME]\n");
    exit(2);
}

/** The <mailupBody> of a result string; SimpleXML honours its windows-1252 declaration. */
function mailupBody(string $result): SimpleXMLElement
{
    $doc = simplexml_load_string($result);
    if ($doc === false || !isset($doc->mailupBody)) {
        throw new RuntimeException("not a mailupMessage: $result");
    }
    return $doc->mailupBody;
}

function run(string $wsdl, string $version, string $user, string $password, int $idList, string $groupName): bool
{
    $client = new SoapClient($wsdl, [
        'soap_version' => $version === '1.2' ? SOAP_1_2 : SOAP_1_1,
        'trace' => true,
        'exceptions' => true,
        'cache_wsdl' => WSDL_CACHE_NONE,
        'connection_timeout' => 10,
    ]);
    $client->__setSoapHeaders([new SoapHeader('http://ws.mailupnet.it/', 'Authentication', [
        'User' => $user, 'Password' => $password, 'encType' => 'UTF-8',
    ])]);

    $body = mailupBody($client->GetNlLists()->GetNlListsResult);
    $code = (int) $body->ReturnCode;
    printf("SOAP %s GetNlLists ReturnCode=%d\n", $version, $code);
    if ($code !== 0) {
        return false;
    }
    $guid = null;
    foreach ($body->Lists->List as $list) {
        $groups = [];
        foreach ($list->Groups->Group as $group) {
            $groups[] = $group['idGroup'] . '=' . $group['groupName'];
        }
        printf("  list %s %s '%s' groups: %s\n", $list['idList'], $list['listGUID'], $list['listName'], $groups ? implode(', ', $groups) : '(none)');
        if ((int) $list['idList'] === $idList) {
            $guid = (string) $list['listGUID'];
        }
    }
    if ($guid === null) {
        printf("  list %d is not a list of this account\n", $idList);
        return false;
    }

    $result = $client->CreateGroup(['idList' => $idList, 'listGUID' => $guid, 'newGroupName' => $groupName])->CreateGroupResult;
    $code = (int) mailupBody($result)->ReturnCode;
    printf("SOAP %s CreateGroup('%s') ReturnCode=%d (the group id)\n", $version, $groupName, $code);
    printf("  request content type: %s\n", preg_match('/^Content-Type: (.*)$/mi', $client->__getLastRequestHeaders(), $m) ? trim($m[1]) : '?');
    printf("  result string: %s\n", $result);
    return $code > 0;
}

$positional = [];
$soap = 'both';
$group = 'Created with PHP';
foreach (array_slice($argv, 1) as $arg) {
    if (str_starts_with($arg, '--soap=')) {
        $soap = substr($arg, 7);
    } elseif (str_starts_with($arg, '--group=')) {
        $group = substr($arg, 8);
    } elseif (str_starts_with($arg, '--')) {
        usage();
    } else {
        $positional[] = $arg;
    }
}
if (count($positional) !== 4 || !in_array($soap, ['1.1', '1.2', 'both'], true) || !ctype_digit($positional[3])) {
    usage();
}
[$endpoint, $user, $password, $idList] = $positional;
$wsdl = str_contains($endpoint, '?') ? $endpoint : "$endpoint?WSDL";

$ok = true;
foreach ($soap === 'both' ? ['1.1', '1.2'] : [$soap] as $version) {
    try {
        $ok = run($wsdl, $version, $user, $password, (int) $idList, "$group (SOAP $version)") && $ok;
    } catch (SoapFault $fault) {
        printf("SOAP %s fault %s: %s\n", $version, $fault->faultcode, $fault->getMessage());
        $ok = false;
    }
}
exit($ok ? 0 : 1);
