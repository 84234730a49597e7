<?php

$cfg['ShowPhpInfo'] = true;
